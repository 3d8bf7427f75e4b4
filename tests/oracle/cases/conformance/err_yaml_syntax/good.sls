marker:
  test.succeed_without_changes:
    - onlyif: touch {{ grains['tmp'] }}/marker
