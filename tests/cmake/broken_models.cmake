# A model is checked whole before anything is allocated (issue 10 §1):
# tests/fixtures/make_broken_models.py writes one-defect variants of the tiny
# models (fixture tiny_models); tests/e2e/test_broken_models.py runs
# vkgrm-inspect and vkgrm-generate on each (both must exit 1 with the message
# the fixture names) and vkgrm-inspect on every good tiny model (exit 0).
set(VKG_BROKEN_MODELS ${CMAKE_BINARY_DIR}/broken-models)
add_test(NAME make_broken_models
         COMMAND ${VKG_PYTHON} ${CMAKE_SOURCE_DIR}/tests/fixtures/make_broken_models.py
                 ${CMAKE_BINARY_DIR}/tiny-models ${VKG_BROKEN_MODELS})
set_tests_properties(make_broken_models PROPERTIES LABELS unit FIXTURES_REQUIRED tiny_models
                     FIXTURES_SETUP broken_models TIMEOUT 300)
add_test(NAME e2e_broken_models
         COMMAND ${VKG_PYTHON} ${CMAKE_SOURCE_DIR}/tests/e2e/test_broken_models.py $<TARGET_FILE:vkgrm-inspect>
                 $<TARGET_FILE:vkgrm-generate> ${VKG_BROKEN_MODELS} ${CMAKE_BINARY_DIR}/tiny-models)
set_tests_properties(e2e_broken_models PROPERTIES LABELS e2e FIXTURES_REQUIRED "tiny_models;broken_models"
                     TIMEOUT 900)
