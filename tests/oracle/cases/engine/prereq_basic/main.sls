changer:
  test.succeed_with_changes
quiet:
  test.succeed_without_changes
pre_on_changer:
  test.succeed_without_changes:
    - prereq:
      - test: changer
pre_on_quiet:
  test.succeed_without_changes:
    - prereq:
      - test: quiet
