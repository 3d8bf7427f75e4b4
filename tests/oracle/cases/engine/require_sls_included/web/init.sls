include:
  - web.conf
web_pkg:
  test.succeed_with_changes
