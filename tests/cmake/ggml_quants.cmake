# ggml block types (issue 12 §2): the C dequantizers of tests/reference/ (the
# references the GPU matmul tests use) against the gguf package's numpy
# dequantizers, bit for bit on random blocks.
add_executable(ref_dequant ${CMAKE_CURRENT_SOURCE_DIR}/reference/cli/ref_dequant.c)
target_link_libraries(ref_dequant PRIVATE vkg_gpu_common)
add_test(NAME ggml_quants_reference
         COMMAND ${VKG_PYTHON} ${CMAKE_SOURCE_DIR}/tests/reference/ggml_quants_reference.py $<TARGET_FILE:ref_dequant>)
set_tests_properties(ggml_quants_reference PROPERTIES LABELS "unit;python")
