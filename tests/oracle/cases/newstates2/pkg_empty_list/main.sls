{% set extra = [] %}
none_installed:
  pkg.installed:
    - pkgs: {{ extra | json }}
none_latest:
  pkg.latest:
    - pkgs: {{ extra | json }}
