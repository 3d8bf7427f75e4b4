extend:
  phantom:
    test.succeed_without_changes:
      - comment: nope

marker:
  test.succeed_without_changes:
    - onlyif: touch {{ grains['tmp'] }}/marker
