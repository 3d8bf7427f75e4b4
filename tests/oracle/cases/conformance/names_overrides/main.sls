services:
  test.configurable_test_state:
    - changes: False
    - comment: default comment
    - names:
      - plain
      - special:
        - comment: overridden
        - changes: True
      - broken:
        - result: False
after:
  test.succeed_without_changes:
    - require:
      - test: special
