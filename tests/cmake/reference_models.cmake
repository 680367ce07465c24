# Tiny random-weight models of every architecture (tests/fixtures/make_tiny_models.py)
# and the self-checks of the independent numpy reference (tests/reference/ref_forward.py).
# 1. make_tiny_models (setup fixture `tiny_models`): writes the HF directories,
#    OUT/manifest.json and OUT/ref/*.logits.npy into ${VKG_TINY_MODELS}; skips the
#    work when the manifest is current. Needs the npm tokenizers in ${VKG_TEST_CACHE}.
# 2. ref_forward_selfcheck: checks that can fail on the reference itself (causality,
#    a second implementation, RoPE tables, configs/tokenizers loaded by transformers).
set(VKG_TINY_MODELS ${CMAKE_BINARY_DIR}/tiny-models)
add_test(NAME make_tiny_models
         COMMAND ${VKG_PYTHON} ${CMAKE_SOURCE_DIR}/tests/fixtures/make_tiny_models.py
                 ${VKG_TINY_MODELS} --cache ${VKG_TEST_CACHE})
set_tests_properties(make_tiny_models PROPERTIES LABELS "unit;python" FIXTURES_SETUP tiny_models TIMEOUT 600)
add_test(NAME ref_forward_selfcheck
         COMMAND ${VKG_PYTHON} ${CMAKE_SOURCE_DIR}/tests/reference/test_ref_forward.py ${VKG_TINY_MODELS})
set_tests_properties(ref_forward_selfcheck PROPERTIES LABELS "unit;python" FIXTURES_REQUIRED tiny_models
                     TIMEOUT 600 ENVIRONMENT "HF_HUB_OFFLINE=1;TRANSFORMERS_VERBOSITY=error")
