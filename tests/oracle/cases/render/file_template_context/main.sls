conf:
  file.managed:
    - name: @ROOT@/work/out.conf
    - source:
      - salt://files/missing.conf
      - salt://files/t.conf
    - template: jinja
    - defaults:
        extra: default
        only_default: 2
    - context:
        extra: context

owned:
  file.managed:
    - name: @ROOT@/work/owned.conf
    - source: salt://files/owned.conf
    - template: jinja
    - user: root
    - group: root
    - mode: 640
