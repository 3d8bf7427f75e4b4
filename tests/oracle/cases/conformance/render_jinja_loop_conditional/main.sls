{% set users = ['carol', 'alice', 'bob'] %}
{% for user in users %}
user_{{ user }}:
  test.succeed_without_changes:
    - comment: "{{ loop.index }} of {{ loop.length }}"
{% endfor %}
{% if grains['tmp'] %}
tmp_known:
  test.succeed_without_changes
{% else %}
tmp_unknown:
  test.fail_without_changes
{% endif %}
{% if pillar.get('missing_flag', False) %}
never:
  test.fail_without_changes
{% endif %}
