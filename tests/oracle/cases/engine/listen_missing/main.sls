l:
  test.succeed_without_changes:
    - listen:
      - test: ghost
