web_conf:
  test.fail_without_changes
