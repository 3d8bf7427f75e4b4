net_one:
  test.succeed_without_changes
net_two:
  test.fail_without_changes
