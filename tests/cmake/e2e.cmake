# e2e: the tools on this machine's Vulkan device.
add_test(NAME e2e_vkgrm_info COMMAND ${VKG_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_vkgrm_info.py
         $<TARGET_FILE:vkgrm-info>)
set_tests_properties(e2e_vkgrm_info PROPERTIES LABELS e2e ENVIRONMENT "VKGRM_VALIDATE=1")
# The prepared GPU check (tools/bench/gpu_pack.sh + gpu_run.sh, README "GPU check"), quick mode here.
add_test(NAME e2e_gpu_check COMMAND ${VKG_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_gpu_check.py
         ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR})
set_tests_properties(e2e_gpu_check PROPERTIES LABELS "e2e;slow" TIMEOUT 900)
