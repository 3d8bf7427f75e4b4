app_one:
  test.succeed_without_changes
app_two:
  test.succeed_without_changes
