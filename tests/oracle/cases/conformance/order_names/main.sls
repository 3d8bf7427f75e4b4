before:
  test.succeed_without_changes
pkgs:
  test.succeed_without_changes:
    - names:
      - zeta
      - alpha
      - mid
after:
  test.succeed_without_changes
