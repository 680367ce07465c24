# Reliability (issue 10): flags checked before any file is read, in every
# tool; special files refused; broken models stopped with a message; output
# streamed and kept on SIGINT/SIGTERM; output files written whole or through.
# make_nan_models (fixture): NaN weights, rms_norm_eps < 0 and a bad
# generation_config.json, made from the tiny llama of make_tiny_models.
set(VKG_NAN_MODELS ${CMAKE_BINARY_DIR}/nan-models)
add_test(NAME make_nan_models
         COMMAND ${VKG_PYTHON} ${CMAKE_SOURCE_DIR}/tests/fixtures/make_nan_models.py
                 ${CMAKE_BINARY_DIR}/tiny-models ${VKG_NAN_MODELS})
set_tests_properties(make_nan_models PROPERTIES LABELS e2e FIXTURES_SETUP nan_models
                     FIXTURES_REQUIRED tiny_models TIMEOUT 300)
add_test(NAME e2e_tool_flags
         COMMAND ${VKG_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_tool_flags.py ${CMAKE_BINARY_DIR}
                 ${CMAKE_BINARY_DIR}/tiny-models/llama)
set_tests_properties(e2e_tool_flags PROPERTIES LABELS e2e FIXTURES_REQUIRED tiny_models TIMEOUT 600
                     ENVIRONMENT "VKGRM_VALIDATE=1")
add_test(NAME e2e_generate_reliability
         COMMAND ${VKG_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_generate_reliability.py ${CMAKE_BINARY_DIR}
                 ${CMAKE_BINARY_DIR}/tiny-models ${VKG_NAN_MODELS})
set_tests_properties(e2e_generate_reliability PROPERTIES LABELS e2e TIMEOUT 1200
                     FIXTURES_REQUIRED "tiny_models;nan_models")
