include:
  - .helpers
web_config:
  test.succeed_without_changes
