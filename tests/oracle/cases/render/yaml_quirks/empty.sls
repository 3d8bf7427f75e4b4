# nothing here
{% if false %}x: 1{% endif %}
