r:
  test.fail_without_changes:
    - retry:
        attempts: 2
        interval: 0
s:
  test.succeed_without_changes:
    - retry: True
