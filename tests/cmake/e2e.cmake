# e2e: the tools on this machine's Vulkan device.
add_test(NAME e2e_vkgrm_info COMMAND ${VKG_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_vkgrm_info.py
         $<TARGET_FILE:vkgrm-info>)
set_tests_properties(e2e_vkgrm_info PROPERTIES LABELS e2e ENVIRONMENT "VKGRM_VALIDATE=1")
# The prepared GPU check (tools/bench/gpu_pack.sh + gpu_run.sh, README "GPU check"), quick mode here.
add_test(NAME e2e_gpu_check COMMAND ${VKG_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_gpu_check.py
         ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR})
set_tests_properties(e2e_gpu_check PROPERTIES LABELS "e2e;slow" TIMEOUT 900)
# tools/bench/jit_ir.sh: per-case instruction counts under callgrind (valgrind: a .ci/do package;
# without it the test exits 77 and ctest reports it skipped, not passed).
add_test(NAME e2e_jit_ir COMMAND ${VKG_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_jit_ir.py
         ${CMAKE_SOURCE_DIR}/tools/bench/jit_ir.sh $<TARGET_FILE:vkgrm-bench>)
set_tests_properties(e2e_jit_ir PROPERTIES LABELS "e2e;slow;python" TIMEOUT 600 SKIP_RETURN_CODE 77)
# tools/bench/pair.py: two builds timed at once, one core each (README "vkgrm-bench", timing in pairs).
add_test(NAME e2e_bench_pair COMMAND ${VKG_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_pair.py
         ${CMAKE_SOURCE_DIR}/tools/bench/pair.py $<TARGET_FILE:vkgrm-bench>)
set_tests_properties(e2e_bench_pair PROPERTIES LABELS "e2e;python" TIMEOUT 300)
