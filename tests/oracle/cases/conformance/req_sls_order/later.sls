later_one:
  test.succeed_without_changes
later_two:
  test.succeed_with_changes
