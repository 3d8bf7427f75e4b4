chicken:
  test.succeed_without_changes:
    - require:
      - test: egg
egg:
  test.succeed_without_changes:
    - require:
      - test: chicken

marker:
  test.succeed_without_changes:
    - onlyif: touch {{ grains['tmp'] }}/marker
