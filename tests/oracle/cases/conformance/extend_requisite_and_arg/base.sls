service:
  test.configurable_test_state:
    - changes: False
    - comment: original
late:
  test.succeed_without_changes:
    - comment: late
