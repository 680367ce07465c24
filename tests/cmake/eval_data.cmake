# Real preference data for evaluating judges (issue 11 §3): tools/eval/fetch_data.sh writes
# ${VKG_TEST_CACHE}/eval/{hhh_alignment,judgebench}.jsonl from the BIG-bench sdist and the
# judicator wheel on PyPI. test_eval_data.py checks counts per subset, fields, ids and every
# record against the raw package files. No GPU. Missing files fail: run fetch_data.sh (.ci/do does).
# Each set is its own test. When the registry refuses the BIG-bench sdist (fetch_data.py writes
# hhh_alignment.unavailable), eval_data_hhh exits 77 and ctest reports it skipped, not passed.
foreach(set hhh judgebench)
  add_test(NAME eval_data_${set}
           COMMAND ${VKG_PYTHON} ${CMAKE_SOURCE_DIR}/tests/e2e/test_eval_data.py ${VKG_TEST_CACHE}/eval ${set})
  set_tests_properties(eval_data_${set} PROPERTIES LABELS unit TIMEOUT 120 SKIP_RETURN_CODE 77)
endforeach()
