a:
  test.succeed_without_changes
b:
  test.fail_without_changes
c:
  test.succeed_without_changes
