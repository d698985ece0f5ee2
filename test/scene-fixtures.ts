// temporary alias while the dataset tests move over to src/node/scene-data/export.ts
export {
  png,
  SCENE_TO_LABEL_ID,
  CAMERA,
  disparityValue,
  sceneRgb8,
  FOLDERS_SPEC,
  writeCityscapesScenes as writeCityscapesFixture,
  writeFoldersScenes as writeFoldersFixture,
  type ExportedFrame as FixtureFrame,
} from '../src/node/scene-data/export.js';
