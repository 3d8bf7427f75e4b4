template:
  test.configurable_test_state:
    - changes: False
    - comment: from template
    - require:
      - test: base
base:
  test.succeed_without_changes
user:
  test.configurable_test_state:
    - use:
      - test: template
own_comment:
  test.configurable_test_state:
    - comment: mine
    - use:
      - template
