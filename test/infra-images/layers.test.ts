// Our layers are the image history above the base image's.
import t from 'tap'
import { ourLayers } from '../../infra/images/src/layers.js'

const base = [{ createdBy: 'CMD ["node"]', size: 0 }, { createdBy: 'RUN useradd', size: 10 }, { createdBy: 'ADD rootfs.tar /', size: 100 }]

t.test('the entries above the base, newest first', async (t) => {
  const ours = [{ createdBy: 'COPY dist', size: 2 }, { createdBy: 'RUN npm ci', size: 15 }]
  t.same(ourLayers([...ours, ...base], base), ours)
  t.same(ourLayers(base, base), [])
})

t.test('an image not built on that base is refused', async (t) => {
  t.throws(() => ourLayers([{ createdBy: 'x', size: 1 }], base), /not built on this base/)
  t.throws(() => ourLayers([{ createdBy: 'COPY', size: 1 }, ...base.slice(0, 2), { createdBy: 'ADD other.tar /', size: 100 }], base), /not built on this base/)
})
