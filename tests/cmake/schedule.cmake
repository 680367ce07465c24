# The continuous-batching scheduler against lone vkg_generate runs (tiny models).
set_tests_properties(gpu_test_schedule PROPERTIES FIXTURES_REQUIRED "tiny_models;score_models" TIMEOUT 900
                     ENVIRONMENT "VKGRM_VALIDATE=1;VKGRM_TINY_MODELS=${CMAKE_BINARY_DIR}/tiny-models;VKGRM_SCORE_MODELS=${CMAKE_BINARY_DIR}/score-models")
