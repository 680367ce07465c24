# e2e: the tools on this machine's Vulkan device.
add_test(NAME e2e_vkgrm_info COMMAND ${VKG_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_vkgrm_info.py
         $<TARGET_FILE:vkgrm-info>)
set_tests_properties(e2e_vkgrm_info PROPERTIES LABELS e2e ENVIRONMENT "VKGRM_VALIDATE=1")
