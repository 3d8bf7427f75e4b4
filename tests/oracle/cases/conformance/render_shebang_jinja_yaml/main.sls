#!jinja|yaml
{% for n in range(2) %}
item_{{ n }}:
  test.succeed_without_changes
{% endfor %}
