include:
  - .config
  - .sub.deep
web_main:
  test.succeed_without_changes
