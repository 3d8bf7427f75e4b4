c:
  ini.options_present:
    - name: '@ROOT@/work/c.ini'
    - strict: True
    - sections:
        main:
          port: 8080
          name: x
          newkey: True
        other:
          a: 1
        added: {}
d:
  ini.options_present:
    - name: '@ROOT@/work/d.conf'
    - separator: ':'
    - no_spaces: True
    - sections:
        Key2: v3
        s:
          Q: 2
