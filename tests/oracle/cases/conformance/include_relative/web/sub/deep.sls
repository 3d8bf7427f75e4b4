include:
  - ..config
  - ..sub.leaf
web_deep:
  test.succeed_without_changes
