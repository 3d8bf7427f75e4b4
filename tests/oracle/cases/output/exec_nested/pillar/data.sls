app:
  name: web
  ports: [80, 443]
  nested:
    deep: {a: 1, b: [x, y]}
    empty: {}
    none: null
    flag: true
    number: 3.5
    text: "multi\nline"
