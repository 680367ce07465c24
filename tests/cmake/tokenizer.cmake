# Tokenizer tests (included by tests/CMakeLists.txt).
# 1. tokenizer_reference (setup fixture): Python transformers writes HF's ids
#    and decodes for the corpus into the build dir (not committed; seconds).
# 2. test_tokenizer (unit): the C tokenizer must give the same ids/decodes.
# 3. tokenize_e2e (e2e): vkgrm-tokenize on one family against the reference.
set(VKG_TOKREF ${CMAKE_BINARY_DIR}/tokenizer_reference.json)
add_test(NAME tokenizer_reference
         COMMAND ${VKG_PYTHON} ${CMAKE_SOURCE_DIR}/tests/reference/tokenize_reference.py
                 --cache ${VKG_TEST_CACHE}
                 --corpus ${CMAKE_SOURCE_DIR}/tests/data/tokenizer_corpus.jsonl
                 --out ${VKG_TOKREF})
set_tests_properties(tokenizer_reference PROPERTIES LABELS unit FIXTURES_SETUP tokref TIMEOUT 300)

if(TARGET test_tokenizer)
  target_compile_definitions(test_tokenizer PRIVATE VKG_TOKREF="${VKG_TOKREF}")
  set_tests_properties(test_tokenizer PROPERTIES FIXTURES_REQUIRED tokref TIMEOUT 600)
endif()

# e2e: the vkgrm-tokenize binary on Gemma-3 (BOS from the post-processor,
# byte fallback) for every 80th corpus string: encode, --no-special --no-bos,
# --decode, --decode --skip-special, and exit codes; compared with HF.
if(TARGET vkgrm-tokenize)
  add_test(NAME tokenize_e2e
           COMMAND ${VKG_PYTHON} ${CMAKE_SOURCE_DIR}/tests/reference/tokenize_reference.py
                   --cache ${VKG_TEST_CACHE}
                   --corpus ${CMAKE_SOURCE_DIR}/tests/data/tokenizer_corpus.jsonl
                   --check-tool $<TARGET_FILE:vkgrm-tokenize> --family gemma3 --step 80)
  set_tests_properties(tokenize_e2e PROPERTIES LABELS "e2e;python" TIMEOUT 600)
endif()
