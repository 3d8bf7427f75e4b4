include:
  - base
extend:
  service:
    test.configurable_test_state:
      - comment: extended
      - require:
        - test: late
main_state:
  test.succeed_without_changes
