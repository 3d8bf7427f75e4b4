include:
  - sls: first
  - base: second
  - third
main_state:
  test.succeed_without_changes
