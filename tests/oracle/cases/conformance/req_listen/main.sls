listener:
  test.succeed_without_changes:
    - listen:
      - test: changer
changer:
  test.succeed_with_changes
quiet_listener:
  test.succeed_without_changes:
    - listen:
      - test: quiet
quiet:
  test.succeed_without_changes
