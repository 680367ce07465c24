# Models end to end: vkgrm-generate vs the numpy reference (tests/e2e/test_models.py)
# on every tiny architecture (fixture tiny_models, tests/reference_models.cmake), and
# the real SmolLM2-135M-Instruct (tests/e2e/test_smollm2.py; fetched by .ci/do).
set(VKG_MODEL_TESTS llama qwen2 qwen3 llama_cls qwen2_cls qwen3_moe qwen3_moe_w40 mixtral deepseek_v2 deepseek_v2_qlora
    gemma2 gemma2_cls deepseek_v2_cls)
foreach(name ${VKG_MODEL_TESTS})
  add_test(NAME e2e_model_${name}
           COMMAND ${VKG_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_models.py $<TARGET_FILE:vkgrm-generate>
                   ${CMAKE_BINARY_DIR}/tiny-models ${name})
  set_tests_properties(e2e_model_${name} PROPERTIES LABELS "e2e;slow" FIXTURES_REQUIRED tiny_models TIMEOUT 1200
                       ENVIRONMENT "OPENBLAS_NUM_THREADS=1;TRANSFORMERS_VERBOSITY=error")
endforeach()
add_test(NAME e2e_smollm2 COMMAND ${VKG_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_smollm2.py
         $<TARGET_FILE:vkgrm-generate> ${VKG_TEST_CACHE}/models/smollm2-135m-instruct)
set_tests_properties(e2e_smollm2 PROPERTIES LABELS "e2e;slow" TIMEOUT 1200
                     ENVIRONMENT "OPENBLAS_NUM_THREADS=1;TRANSFORMERS_VERBOSITY=error")
# Batch invariance of generation (C test on the tiny Llama).
set_tests_properties(gpu_test_generate PROPERTIES FIXTURES_REQUIRED tiny_models
                     ENVIRONMENT "VKGRM_VALIDATE=1;VKGRM_TINY_MODELS=${CMAKE_BINARY_DIR}/tiny-models")
# The same generation runs under synchronization validation (missing barriers fail).
add_test(NAME gpu_test_generate_sync COMMAND gpu_test_generate WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(gpu_test_generate_sync PROPERTIES LABELS gpu FIXTURES_REQUIRED tiny_models TIMEOUT 900
                     ENVIRONMENT "VKGRM_VALIDATE=1;VKGRM_VALIDATE_SYNC=1;VKGRM_TINY_MODELS=${CMAKE_BINARY_DIR}/tiny-models")
# DeepSeek-V2 with the MLA latent cache (the plan's default for the tiny model where attn_lane runs:
# lavapipe), then with every head's k and v
add_test(NAME gpu_test_generate_deepseek_v2 COMMAND gpu_test_generate WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(gpu_test_generate_deepseek_v2 PROPERTIES LABELS gpu FIXTURES_REQUIRED tiny_models TIMEOUT 900
                     ENVIRONMENT "VKGRM_VALIDATE=1;VKG_TEST_GEN_MODEL=deepseek_v2;VKG_TEST_EXPECT_MLA_LATENT=1;VKGRM_TINY_MODELS=${CMAKE_BINARY_DIR}/tiny-models")
add_test(NAME gpu_test_generate_deepseek_v2_heads COMMAND gpu_test_generate WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(gpu_test_generate_deepseek_v2_heads PROPERTIES LABELS gpu FIXTURES_REQUIRED tiny_models TIMEOUT 900
                     ENVIRONMENT "VKGRM_VALIDATE=1;VKG_TEST_GEN_MODEL=deepseek_v2;VKGRM_MLA_LATENT=0;VKGRM_TINY_MODELS=${CMAKE_BINARY_DIR}/tiny-models")
# The same DeepSeek-V2 logits with every head's k and v cached (VKGRM_MLA_LATENT=0: the form of GPUs,
# and of models whose latent saves less than half; the tiny model's saves 2.2x, so it runs the latent)
add_test(NAME e2e_model_deepseek_v2_heads
         COMMAND ${VKG_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_models.py $<TARGET_FILE:vkgrm-generate>
                 ${CMAKE_BINARY_DIR}/tiny-models deepseek_v2 deepseek_v2_qlora)
set_tests_properties(e2e_model_deepseek_v2_heads PROPERTIES LABELS "e2e;slow" FIXTURES_REQUIRED tiny_models TIMEOUT 1200
                     ENVIRONMENT "OPENBLAS_NUM_THREADS=1;TRANSFORMERS_VERBOSITY=error;VKGRM_MLA_LATENT=0")
# ... and with the latent through attn.comp's *_wide kernels (the GPU tier: VKGRM_DISABLE_ATTN_LANE=1;
# GPUs take the latent only with VKGRM_MLA_LATENT=1 until it is measured on one)
add_test(NAME e2e_model_deepseek_v2_wide
         COMMAND ${VKG_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_models.py $<TARGET_FILE:vkgrm-generate>
                 ${CMAKE_BINARY_DIR}/tiny-models deepseek_v2 deepseek_v2_qlora)
set_tests_properties(e2e_model_deepseek_v2_wide PROPERTIES LABELS "e2e;slow" FIXTURES_REQUIRED tiny_models TIMEOUT 1200
                     ENVIRONMENT "OPENBLAS_NUM_THREADS=1;TRANSFORMERS_VERBOSITY=error;VKGRM_DISABLE_ATTN_LANE=1;VKGRM_MLA_LATENT=1")
add_test(NAME gpu_test_generate_deepseek_v2_wide COMMAND gpu_test_generate WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(gpu_test_generate_deepseek_v2_wide PROPERTIES LABELS gpu FIXTURES_REQUIRED tiny_models TIMEOUT 900
                     ENVIRONMENT "VKGRM_VALIDATE=1;VKG_TEST_GEN_MODEL=deepseek_v2;VKG_TEST_EXPECT_MLA_LATENT=1;VKGRM_DISABLE_ATTN_LANE=1;VKGRM_MLA_LATENT=1;VKGRM_TINY_MODELS=${CMAKE_BINARY_DIR}/tiny-models")
