# The JSON corpus (tests/data/json/) and Python's reading of it (expected.json)
# are written by tests/reference/json_reference.py; this reruns it with --check
# so that a stale file, or a Python whose json module reads differently, fails.
# test_json (unit) compares loaders/json.c with expected.json.
add_test(NAME json_reference
         COMMAND ${VKG_PYTHON} ${CMAKE_SOURCE_DIR}/tests/reference/json_reference.py --check
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(json_reference PROPERTIES LABELS "unit;python")
