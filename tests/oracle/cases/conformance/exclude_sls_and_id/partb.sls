b_one:
  test.succeed_without_changes
b_two:
  test.fail_without_changes
