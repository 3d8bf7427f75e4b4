auto_a:
  test.succeed_without_changes
auto_b:
  test.succeed_without_changes
second:
  test.succeed_without_changes:
    - order: 2
first:
  test.succeed_without_changes:
    - order: 1
