a_one:
  test.fail_without_changes
a_two:
  test.fail_without_changes
