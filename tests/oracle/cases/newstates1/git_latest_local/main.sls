{#- The repositories live outside work/: their .git internals hold times. #}
{%- do salt['cmd.run']('sh @ROOT@/srv/mkrepo.sh @ROOT@ ' ~ pillar.get('step', 1)) %}

checkout:
  git.latest:
    - name: @ROOT@/repo.git
    - target: @ROOT@/checkout

on_dev:
  git.latest:
    - name: @ROOT@/repo.git
    - target: @ROOT@/dev
    - rev: dev
    - branch: dev
    - depth: 1

second:
  git.cloned:
    - name: @ROOT@/repo.git
    - target: @ROOT@/clone2
    - branch: main

{%- if salt['file.directory_exists']('@ROOT@/checkout') %}
email:
  git.config_set:
    - name: user.email
    - value: ops@example.invalid
    - repo: @ROOT@/checkout
    - require:
      - git: checkout
{%- endif %}
