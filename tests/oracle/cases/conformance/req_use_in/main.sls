template:
  test.configurable_test_state:
    - changes: False
    - comment: shared
    - use_in:
      - test: consumer
consumer:
  test.configurable_test_state
