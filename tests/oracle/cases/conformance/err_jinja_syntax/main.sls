ok:
  test.succeed_without_changes
{% if grains['tmp'] %}
broken:
  test.succeed_without_changes
{% endfor %}

marker:
  test.succeed_without_changes:
    - onlyif: touch {{ grains['tmp'] }}/marker
