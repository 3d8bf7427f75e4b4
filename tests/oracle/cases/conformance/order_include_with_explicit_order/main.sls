include:
  - lib
main_one:
  test.succeed_without_changes:
    - order: 1
main_two:
  test.succeed_without_changes
