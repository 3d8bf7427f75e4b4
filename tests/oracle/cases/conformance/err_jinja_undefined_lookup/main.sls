{% set known = 1 %}
broken:
  test.succeed_without_changes:
    - comment: {{ pillar['nothere']['deeper'] }}

marker:
  test.succeed_without_changes:
    - onlyif: touch {{ grains['tmp'] }}/marker
