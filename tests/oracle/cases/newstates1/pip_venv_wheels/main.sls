{#- The virtualenv is made while rendering, outside work/ (not part of what is compared). #}
{%- if pillar.get('venv', True) and not salt['file.file_exists']('@ROOT@/venv/bin/python') %}
{%-   do salt['cmd.run']('python3 -m venv @ROOT@/venv') %}
{%- endif %}

demo:
  pip.installed:
    - name: saline-demo{{ pillar.get('spec', '==1.0') }}
    - bin_env: @ROOT@/venv
    - no_index: True
    - find_links: @ROOT@/srv
    - upgrade: {{ pillar.get('upgrade', False) }}

several:
  pip.installed:
    - pkgs:
      - saline_demo>=1.0
      - saline-demo<3
    - bin_env: @ROOT@/venv
    - no_index: True
    - find_links: @ROOT@/srv
    - require:
      - pip: demo

{% if pillar.get('remove') %}
gone:
  pip.removed:
    - name: saline-demo
    - bin_env: @ROOT@/venv
    - require:
      - pip: several
{% endif %}
