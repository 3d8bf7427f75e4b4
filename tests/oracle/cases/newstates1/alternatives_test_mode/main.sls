{#- test=True only: the host's alternatives are read, never changed. #}
install:
  alternatives.install:
    - name: saline-oracle-demo
    - link: @ROOT@/work/bin/demo
    - path: /bin/true
    - priority: 30

pick:
  alternatives.set:
    - name: saline-oracle-demo
    - path: /bin/true

automatic:
  alternatives.auto:
    - name: saline-oracle-demo

drop:
  alternatives.remove:
    - name: saline-oracle-demo
    - path: /bin/true
