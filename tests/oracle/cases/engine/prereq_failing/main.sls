changer:
  test.succeed_with_changes
stopper:
  test.fail_without_changes:
    - prereq:
      - test: changer
