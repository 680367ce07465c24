# vkgrm-score end to end: invariances (same seed, batch, shard + merge, resume
# after kill -9, two devices, revote), bad lines, SIGINT, flags; on two tiny
# random models with a small vocabulary (make_score_models.py).
add_test(NAME make_score_models
         COMMAND ${VKG_PYTHON} ${CMAKE_SOURCE_DIR}/tests/fixtures/make_score_models.py ${CMAKE_BINARY_DIR}/score-models)
set_tests_properties(make_score_models PROPERTIES LABELS "unit;python" FIXTURES_SETUP score_models TIMEOUT 300)
add_test(NAME e2e_vkgrm_score
         COMMAND ${VKG_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_vkgrm_score.py $<TARGET_FILE:vkgrm-score>
                 ${CMAKE_BINARY_DIR}/score-models)
set_tests_properties(e2e_vkgrm_score PROPERTIES LABELS e2e FIXTURES_REQUIRED score_models TIMEOUT 1200)
# vkgrm-bench --profile on the bundled judge: per-kernel tables consistent with the
# timed rows and with the model's layer count
add_test(NAME e2e_bench_profile
         COMMAND ${VKG_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_bench_profile.py $<TARGET_FILE:vkgrm-bench>
                 ${CMAKE_SOURCE_DIR}/models/grm-judge-tiny)
set_tests_properties(e2e_bench_profile PROPERTIES LABELS e2e TIMEOUT 1200)
# vkgrm-bench --ops: every bench case runs once to the end (bench_coverage only counts them)
add_test(NAME e2e_bench_ops COMMAND ${VKG_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_bench_ops.py $<TARGET_FILE:vkgrm-bench>)
set_tests_properties(e2e_bench_ops PROPERTIES LABELS e2e TIMEOUT 3000)
# The bundled toy judge and MetaRM (models/) through vkgrm-score on held-out synthetic
# records: greedy, Voting@8 and MetaRM@8 (temperature 0.5, seed 1) at least the values
# measured on lavapipe minus a margin of 3 records (models/README.md, "Through vkgrm"):
# the first 100 records (measured greedy 0.520, Voting@8 0.560, MetaRM@8 0.580; ~1.5 min
# on lavapipe with the CPU-driver kernels, 15 min before them).
add_test(NAME e2e_judge_quality
         COMMAND ${VKG_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_judge_quality.py $<TARGET_FILE:vkgrm-score>
                 ${CMAKE_SOURCE_DIR}/models 100 8 0.49 0.53 0.55 0.05)
set_tests_properties(e2e_judge_quality PROPERTIES LABELS e2e TIMEOUT 1800)
