# GRM library: the Python reference (tests/reference/grm_reference.py) wrote
# the committed expected data of the test_grm_* unit tests (prompts wrapped by
# transformers' chat templates, seeded permutations, votes and summaries of
# synthetic scorer outputs, Python's way of printing number ids); rerun it
# with --check so that a change of the inputs, of the npm tokenizer packages
# or of transformers shows up as a stale file.
add_test(NAME grm_reference
         COMMAND ${VKG_PYTHON} ${CMAKE_SOURCE_DIR}/tests/reference/grm_reference.py
                 --cache ${VKG_TEST_CACHE} --check
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(grm_reference PROPERTIES LABELS unit
                     ENVIRONMENT "HF_HUB_OFFLINE=1;TRANSFORMERS_VERBOSITY=error")
